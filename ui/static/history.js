element.addEventListener('click', (event) => {
  const item = event.target.closest('button.sanad-conv');
  if (!item) return;
  event.preventDefault();
  trigger('click', {conversation: item.dataset.conv});
});
